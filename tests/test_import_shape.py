"""The package's imports form no circle, by any path, function-level imports included (grimp reads them all)."""
from __future__ import annotations

import grimp


def _cycles() -> list[tuple[str, str]]:
    graph = grimp.build_graph("datamake", include_external_packages=False)
    found = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if graph.chain_exists(importer=imported, imported=module):
                found.append((module, imported))
    return found


def test_no_module_imports_one_that_imports_it_back():
    assert _cycles() == []
