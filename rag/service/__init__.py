"""The one core the faces use: the Assistant, collections and grants, access, metrics, folder
sync."""
