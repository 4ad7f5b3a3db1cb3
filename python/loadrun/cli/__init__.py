"""The `load_and_run` command line (main.py) and the `loadrun` tools (tools.py).

Options come in groups, one module each (options_basic.py, ...): a group
adds its argparse group and applies the parsed values to the Options object.
Flags of the reference tool that loadrun does not build yet are refused by
not_supported.py, the one list later work removes entries from.
"""
