"""gflags-style command lines on top of argparse.

load_and_run users type flags the way gflags reads them: `--name value`,
`--name=value`, one dash or two, `-` and `_` interchangeable in names, bools
as `--x`, `--x=false` or `--nox`, the model path anywhere. normalize() turns
such a command line into a canonical one for argparse: every flag spelled
`--dashed-name`, values attached with `=` (so a value that starts with `-` is
never taken for a flag), bools resolved to present/absent, positionals after
`--`. Unknown and not-yet-supported flags are UsageErrors, never guesses
(no abbreviations).
"""
import argparse

from loadrun.cli.not_supported import NOT_SUPPORTED, not_supported_message

TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}


class UsageError(Exception):
    """A bad command line: one line on stderr, exit code 2."""


class Parser(argparse.ArgumentParser):
    def __init__(self, **kw):
        kw.setdefault("allow_abbrev", False)
        super().__init__(**kw)

    def error(self, message):  # argparse would print usage and exit
        raise UsageError(message)


def _flag_table(parser):
    flags = {}
    for action in parser._actions:
        for s in action.option_strings:
            if s.startswith("--"):
                flags[s] = action
    return flags


def _is_bool(action):
    return action.nargs == 0


def _parse_bool(flag, text):
    t = text.strip().lower()
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    raise UsageError(f"flag {flag} takes true or false, got '{text}'")


def normalize(argv, parser):
    """(canonical flag list, positionals); raises UsageError."""
    flags = _flag_table(parser)
    out, positionals, bools = [], [], {}
    i, only_positional = 0, False
    while i < len(argv):
        tok = argv[i]
        i += 1
        if only_positional or not tok.startswith("-") or tok == "-":
            positionals.append(tok)
            continue
        if tok == "--":
            only_positional = True
            continue
        if tok == "-h":
            tok = "--help"
        body = tok[2:] if tok.startswith("--") else tok[1:]
        typed, eq, value = body.partition("=")
        shown = tok.partition("=")[0]
        if not typed or typed.startswith("-"):
            raise UsageError(f"unknown flag {shown}")
        name = "--" + typed.replace("_", "-")
        negated = False
        if name not in flags and name.startswith("--no") and name not in NOT_SUPPORTED:
            base = "--" + name[4:]
            if base in flags and _is_bool(flags[base]):
                name, negated = base, True
            elif base in NOT_SUPPORTED:
                name = base
        if name in NOT_SUPPORTED:
            raise UsageError(not_supported_message(name))
        action = flags.get(name)
        if action is None:
            raise UsageError(f"unknown flag {shown}")
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            out.append(name)
            continue
        if _is_bool(action):
            if negated and eq:
                raise UsageError(f"flag {shown} takes no value")
            state = (not negated) if not eq else _parse_bool(name, value)
            bools[name] = state
            continue
        if negated:
            raise UsageError(f"unknown flag {shown}")
        if not eq:
            if i >= len(argv):
                raise UsageError(f"flag {name} needs a value")
            value = argv[i]
            i += 1
        out.append(f"{name}={value}")
    out.extend(name for name, state in bools.items() if state)
    return out, positionals
