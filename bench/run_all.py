"""`make bench`: every benchmark, one after the other."""
from bench import events, gateway_streams, journey, order_flow

if __name__ == "__main__":
    print("== event plumbing ==")
    events.main()
    print("\n== the whole system ==")
    journey.main()
    print("\n== orders placed and paid ==")
    order_flow.main()
    print("\n== the gateway holding open live streams: gthread beside gevent ==")
    gateway_streams.main([])
