import os
import sys

# Tests import the helpers module by name.
sys.path.insert(0, os.path.dirname(__file__))
