from migration.cli import main

raise SystemExit(main())
