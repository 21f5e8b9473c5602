"""Closed vocabularies of the configuration files: the words a value must be one of.

A misspelt word in an open vocabulary is silently a new word (a centre in ``phyiscs`` is funded by
no company that funds ``physics``), so these lists are closed and the loader answers a word outside
them with the nearest allowed one ("did you mean", :func:`wpi_abm.schema.one_of`).

Other closed vocabularies are written as ``Literal`` types beside the field that uses them (for
example the private sources that count for matching, :class:`wpi_abm.policy.Matching`); the names
a configuration defines itself (hosts, evaluations, policies) are checked against those
definitions by the models that hold them.
"""

from __future__ import annotations

RESEARCH_FIELDS: tuple[str, ...] = (
    "physics",
    "math",
    "chemistry",
    "materials",
    "life",
    "neuro",
    "earth",
)
"""Research fields of centres, and of what companies and foundations fund.

The list covers the 18 real WPI centres (``wpi_abm/data/reference/wpi_centres_roster.csv``) and the
packaged cohort (``configs/cohorts/default.yaml``), one field per centre by its main discipline:

- ``physics``: Kavli IPMU (with ``math``), QUP
- ``math``: none alone; Kavli IPMU's mathematics, SKCM² in part
- ``chemistry``: iCeMS, ITbM, ICReDD
- ``materials``: AIMR, MANA, I2CNER (energy materials), SKCM²
- ``life``: IFReC, NanoLSI, ASHBi, PRIMe, Bio2Q
- ``neuro``: IIIS, IRCN
- ``earth``: ELSI, AIMEC

To add a field for every cohort, add it here (one place; the figures and tables need nothing
else). A single cohort can also declare fields of its own with ``extra_fields: [...]``
(:class:`wpi_abm.cohort.Cohort`), so that a study of another programme needs no code change.
"""
