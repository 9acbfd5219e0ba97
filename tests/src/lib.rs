//! Integration tests of `adjoint` as a user sees it live in `tests/`.
