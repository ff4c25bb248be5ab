"""The command line: argv -> settings -> the library; the one place errors become exit codes."""
