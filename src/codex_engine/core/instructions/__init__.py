"""What the model is told besides the conversation: AGENTS.md files (:mod:`.agents_md`)."""
