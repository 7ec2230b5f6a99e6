const password = "hunter2";
