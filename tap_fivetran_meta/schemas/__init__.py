"""Schema fragments shared by several streams."""
