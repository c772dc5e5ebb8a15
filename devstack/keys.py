"""Creates the signing keys under LINLI_VAR_DIR when they are missing (used by make run and docker-compose)."""
from linli.config import settings
from linli.keys import ensure_keys

if __name__ == "__main__":
    ensure_keys()
    print(f"keys ready in {settings().var_dir / 'keys'}")
