// Entry of the server bundle (out/server.js): VS Code starts it over IPC, other editors over stdio.
import { startServer } from './server';

startServer();
