"""``python -m timetracer``: the same as the ``timetracer`` command."""

from timetracer.cli.main import main

raise SystemExit(main())
