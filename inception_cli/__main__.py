from inception_cli.cli import main

main()
