"""The gateway deployable: users, playlists and likes in SQL, recommendations from the Bento."""
