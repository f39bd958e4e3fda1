Console.WriteLine("silo");
return 0;
