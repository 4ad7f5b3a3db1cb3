import os
import sys

# Tests import the helpers module by name.
sys.path.insert(0, os.path.dirname(__file__))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    line = getattr(config, "onnx_conformance_summary", None)
    if line:
        terminalreporter.write_line(line)
