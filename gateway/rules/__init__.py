"""The gateway's pure rules: which paths it forwards, who may see which account, sign-in throttling."""
