"""Interview turn-taking on Pipecat's user-turn strategies: when the candidate's turn ends."""
