import os
import sys

# Tests import the helpers module by name.
sys.path.insert(0, os.path.dirname(__file__))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    line = getattr(config, "onnx_conformance_summary", None)
    if line:
        terminalreporter.write_line(line)


def pytest_sessionstart(session):
    # A child run of isa_levels.py must really run at the level it was given.
    level = os.environ.get("LOADRUN_ISA")
    if os.environ.get("LOADRUN_TEST_ISA_CHILD") and level:
        import loadrun

        assert loadrun.isa_level() == level, (loadrun.isa_level(), level)
