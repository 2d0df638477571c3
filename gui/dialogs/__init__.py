"""The application's dialogs: new-cluster wizard, rack elevation, what-if, hall size."""
