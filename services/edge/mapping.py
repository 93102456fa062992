"""Field-by-name projection between the public and internal messages.

The edge's public requests and the internal ones (risk, ledger, bridge) share field names by design, so a
request is mapped by copying every set field whose name the target also has; anything the target lacks is
dropped and the caller adds what only the edge knows (`principal`). Pure and unit-tested.
"""

from __future__ import annotations

from typing import Any, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)


def project(source: Message, target_type: type[M], **overrides: Any) -> M:
    """A new `target_type` holding `source`'s set fields that `target_type` also has (same name and type).

    `overrides` are assigned last, as keyword arguments to the constructor would be.
    """
    target = target_type()
    fields = target_type.DESCRIPTOR.fields_by_name
    for fd, value in source.ListFields():
        dst = fields.get(fd.name)
        if dst is None or dst.type != fd.type or dst.is_repeated != fd.is_repeated:
            continue
        if fd.type == FieldDescriptor.TYPE_MESSAGE and dst.message_type.full_name != fd.message_type.full_name:
            continue
        if fd.type == FieldDescriptor.TYPE_ENUM and dst.enum_type.full_name != fd.enum_type.full_name:
            continue
        if fd.is_repeated and fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            dst_map = getattr(target, fd.name)
            for key, item in value.items():
                if isinstance(item, Message):
                    dst_map[key].CopyFrom(item)
                else:
                    dst_map[key] = item
        elif fd.is_repeated:
            getattr(target, fd.name).extend(value)
        elif fd.type == FieldDescriptor.TYPE_MESSAGE:
            getattr(target, fd.name).CopyFrom(value)
        else:
            setattr(target, fd.name, value)
    for name, value in overrides.items():
        if isinstance(value, Message):
            getattr(target, name).CopyFrom(value)
        else:
            setattr(target, name, value)
    return target
