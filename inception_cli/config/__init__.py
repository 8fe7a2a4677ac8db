"""Configs: composing `conf/`, the one table of value rules, the resolvers, shell completion."""
