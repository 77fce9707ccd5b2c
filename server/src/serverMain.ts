// Entry of the server bundle (out/server.js): VS Code starts it over IPC, other editors over stdio.
import './heapGrowth'; // first: before the heap grows
import './threadpool'; // sizes libuv's thread pool before any fs call starts it
import { startServer } from './server';

startServer();
