"""The certificate and service catalogue, and the matcher that answers residents' questions."""
