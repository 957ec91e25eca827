"""The session launcher: an HTTP service that starts one `bot.py` child process per interview (`python -m launcher`).

app.py: the FastAPI app (auth, routes, bot command); sessions.py: the child processes and their state;
request.py: the launch request's parsing; child_secrets.py: secrets handed to a child without its argv.
"""
