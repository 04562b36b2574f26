"""The plugin's settings: declared once, read from the command line, the ini file and markers, and checked before a run.

`table` declares each setting once (flag, ini name, marker, parser, default) and
registers them with pytest; `resolved` turns a session's sources into one
`ReproSettings`; `probes` reads the settings of the runs that retrain on purpose (the
seed probe, the sweep); `preflight` refuses a session whose settings cannot work
before any training starts.  The command-line tools read the same table
(`pytest_repro.cli.project_settings`).
"""
