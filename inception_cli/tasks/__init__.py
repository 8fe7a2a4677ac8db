"""One pure function per command, testable without the CLI."""
