"""studygroups: real-time peer-instruction study-group sessions over REST and Socket.IO."""

__version__ = "0.1.0"
