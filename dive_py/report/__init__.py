"""Non-interactive outputs: the JSON export, the CI report, the file listing."""
