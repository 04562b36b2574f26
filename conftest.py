"""What the project's own test run needs: pytester for the plugin's tests."""

pytest_plugins = ["pytester"]
