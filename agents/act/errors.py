"""Why an action failed, as an HTTP status, a stable machine code and plain words.

Messages never contain secrets or document text: they are shown in the outbox, in step
outputs and in logs.
"""

from storage.errors import ApplianceError


class ActError(ApplianceError):
    """Base of every action failure; `code` is stable, the message is for people."""

    status_code = 422
    code = "action_error"
    default_message = "The action could not be carried out."


class EgressBlockedError(ActError):
    """The destination is on a network the appliance must not call."""

    status_code = 403
    code = "egress_blocked"
    default_message = "The destination address is not allowed."


class ActionConfigError(ActError):
    """A step's parameters or a connector's settings do not describe a valid message."""

    status_code = 422
    code = "invalid_action"


class PayloadTooLargeError(ActError):
    status_code = 413
    code = "payload_too_large"
    default_message = "The message is larger than the outbox keeps."


class MessageStateError(ActError):
    """The outbox message is not in a state that allows what was asked."""

    status_code = 409
    code = "outbox_conflict"
