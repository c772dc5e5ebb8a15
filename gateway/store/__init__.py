"""Every database call of the gateway: accounts, sessions and family links (`accounts`), and the
sign-in counters (`throttle`)."""
