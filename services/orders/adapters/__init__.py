"""Orders' clients of other parties: the payment provider (`payments`) and the synchronous reads
from catalog and the gateway (`upstream`)."""
