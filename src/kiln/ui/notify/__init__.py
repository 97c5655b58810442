"""Pages of notifications: the header's bell, the inbox, and the settings card on the profile page."""
