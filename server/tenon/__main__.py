from tenon.cli import main

raise SystemExit(main())
