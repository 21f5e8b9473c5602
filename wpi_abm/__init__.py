"""wpi-abm: how often a research centre's value declines after its founding grant ends.

An agent-based simulator (Mesa) of research centres modelled on Japan's WPI programme, to compare
funding-policy designs by Monte Carlo. See README.md and docs/ODD.md.
"""

__version__ = "0.1.0"
