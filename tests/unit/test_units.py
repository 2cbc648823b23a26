from groot_ops.units import binary_size


def test_binary_size_names_binary_units_and_refuses_non_numbers() -> None:
    assert binary_size(0) == "0 B"
    assert binary_size(1023) == "1023 B"
    assert binary_size(1536) == "1.5 KiB"
    assert binary_size(9.2e9) == "8.6 GiB"
    assert binary_size(3 * 1024**4) == "3.0 TiB"
    assert binary_size(None) == "?" and binary_size("12") == "?" and binary_size(True) == "?"
