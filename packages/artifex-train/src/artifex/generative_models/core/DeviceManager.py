"""``from artifex.generative_models.core import DeviceManager`` gives the class itself.

``artifex.generative_models.core`` is a namespace shared by several distributions
(PEP 420), so it cannot hold an ``__init__.py`` that would define the name. Python
resolves ``from package import Name`` by importing the submodule ``package.Name`` when the
package has no such attribute; this module answers that import by putting the class in
its own place in ``sys.modules``, so the name the advanced guide imports *is*
:class:`artifex.generative_models.training.devices.DeviceManager`.
"""

import sys

from artifex.generative_models.training.devices import DeviceManager

sys.modules[__name__] = DeviceManager  # type: ignore[assignment]
