"""`make bench`: every benchmark, one after the other."""
from bench import events, journey

if __name__ == "__main__":
    print("== event plumbing ==")
    events.main()
    print("\n== the whole system ==")
    journey.main()
