"""The test suite; a regular package so that a dependency shipping a top-level ``tests`` package
(mlforecast does) cannot shadow it in subprocesses."""
