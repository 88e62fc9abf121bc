"""Socket.IO transport: the /study-groups namespace, rooms, presence and ordered delivery."""
