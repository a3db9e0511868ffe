"""What several post-training recipes share."""
