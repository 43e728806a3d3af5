"""``python -m ai_tasks.cli`` = ``ai-worker``."""

from ai_tasks.cli import main

raise SystemExit(main())
