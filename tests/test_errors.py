"""The error tree is one rooted hierarchy, pinned here so that it changes only on purpose."""

from __future__ import annotations

import inspect

from mailkit import errors


def test_every_error_descends_from_mailkit_error() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    assert all(issubclass(cls, errors.MailkitError) for cls in classes)


def test_the_tree_is_the_one_drawn_in_the_docstring() -> None:
    doc = inspect.getdoc(errors) or ""
    for name in errors.__all__:
        assert name in doc, f"{name} is not drawn in errors.py's docstring"
    parents = {name: getattr(errors, name).__mro__[1].__name__ for name in errors.__all__}
    assert parents["SecretError"] == "ConfigError"
    assert parents["ProtectionError"] == "AttachmentError"
    assert parents["BatchBusyError"] == "JournalError"
    for name in ("ConnectError", "SecurityError", "AuthError", "SenderRefusedError"):
        assert parents[name] == "TransportError"


def test_errors_carry_structured_fields_and_print_their_message() -> None:
    err = errors.DataError("the value is missing", row="P1", column="E-mail")
    assert (str(err), err.row, err.column) == ("the value is missing", "P1", "E-mail")
    transport = errors.AuthError("login refused", phase="auth", code=535, reply="5.7.8 no")
    assert (transport.phase, transport.code) == ("auth", 535)
    assert errors.ConfigError("x", setting="smtp.port").setting == "smtp.port"
