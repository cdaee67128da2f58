"""Stick-Gen: the stick-native model family (SPEC §1 sizes) over the stick figure's numbers.

- ``model``: ``StickGen`` (a MotionDiT over ``stick.features``), sizes tiny..large, files.
- ``training``: pretrain -> SFT -> LoRA on the real data seen as stick figures.
- ``evaluate``: the stick-space label classifier, recognition and FID that judge it.
"""
