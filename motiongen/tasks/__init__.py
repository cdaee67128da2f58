"""Control tasks over one model (SPEC §4): which values of a motion are given (``control``)
and the training pairs that teach a network to complete them (``training``)."""

from motiongen.tasks.control import (
    CONTROL_DIM,
    WORLD,
    WORLD_SCALE,
    control_mask,
    control_values,
    joint_dims,
    world_channels,
)
from motiongen.tasks.training import BODY_PARTS, TASK_ID, TASKS, TaskSchedule, sample_task

__all__ = [
    "BODY_PARTS",
    "CONTROL_DIM",
    "TASKS",
    "TASK_ID",
    "WORLD",
    "WORLD_SCALE",
    "TaskSchedule",
    "control_mask",
    "control_values",
    "joint_dims",
    "sample_task",
    "world_channels",
]
