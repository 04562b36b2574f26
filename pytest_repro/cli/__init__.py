"""The console scripts: `repro-check`, `repro-vary`, `repro-run`, `repro-hook`, `repro-pin`, `repro-export`, `repro-keygen`.

Each module is one command's front door: it parses its arguments, reads the project's
settings the way pytest does (`project_settings`), calls the core packages
(`lineage`, `running`, `variations`, `report`) and turns their errors into one line on
stderr and a documented exit status (`common.run_cli`; the codes are in
`pytest_repro.errors`).
"""
