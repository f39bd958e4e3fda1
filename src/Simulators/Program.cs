// Runs the external-system simulators (Proxmox VE, Stripe, Odoo) on loopback, as ./sajet sim and ./sajet dev start them.
Console.WriteLine("simulators: none registered yet");
return 0;
