"""Cadres teach Qingche what a question it could not answer meant: ``教 #12 居住证明``.

The phrasing is learned at once for the cadre's jurisdiction (the village, or the town and every
village in it), recorded with who taught it, reversible (``撤销教 #12``), and exportable to the
catalogue's aliases (``qingche knowledge taught --export FILE``). Residents there who ask the same or
nearly the same question get that entry's answer before the matcher is asked.
"""
