"""Array types shared by the imaging steps.

OpenCV's type stubs return arrays of a loosely typed dtype, so images are typed
as arrays of any dtype; their dtype (uint8 BGR or grey) is documented per function.
"""

from typing import Any

from numpy.typing import NDArray

Pixels = NDArray[Any]
"""An image or mask as OpenCV returns it (uint8 unless said otherwise)."""
