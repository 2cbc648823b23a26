"""One recorder module per topic (server, data, train); see tests/conformance/record.py."""
